/** Test helper: the OnairError that `fn` throws (anything else thrown, or nothing, fails the test). */
import { OnairError } from "../../src/core/errors.js";

export function thrownOnairError(fn: () => unknown): OnairError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OnairError) return e;
    throw e;
  }
  throw new Error("expected an OnairError");
}
