/** Range checks for DVB SI fields before they are written. */
import { OnairError } from "../core/errors.js";

/** Requires `v` to be an integer in [0, max]; throws ONAIR_SI_FIELD_RANGE naming the field. */
export function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new OnairError("ONAIR_SI_FIELD_RANGE", `${name} out of range`, { name, value: v, max });
  }
}
