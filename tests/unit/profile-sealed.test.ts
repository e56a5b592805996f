import { describe, expect, it } from "vitest";
import { isOnairError } from "../../src/core/errors.js";
import { SEALED_MAGIC, getSodium, open, readSealedHeader, seal, type KeyMaterial } from "../../src/config/sealed.js";

const SMALL_ARGON = { opslimit: 1, memlimit: 8 * 1024 * 1024 };
const enc = new TextEncoder();
const PLAIN = enc.encode("channel:\n  id: tiny\n  name: Tiny\n# secret: hunter22\n");

async function rawKey(): Promise<KeyMaterial> {
  const s = await getSodium();
  return { kind: "key", key: s.randombytes_buf(32), source: "test key" };
}

function pass(p: string): KeyMaterial {
  return { kind: "passphrase", passphrase: enc.encode(p), source: "test passphrase" };
}

/** Runs fn and returns the OnairError code it rejects with. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isOnairError(e)) return e.code;
    throw e;
  }
  return "NO_ERROR";
}

/** Rewrites the prefix check after editing bytes 0..15, as a well-formed newer file would have it. */
async function fixPrefixCheck(b: Uint8Array): Promise<void> {
  const s = await getSodium();
  b.set(s.crypto_generichash(16, b.subarray(0, 16), null).subarray(0, 4), 16);
}
async function fixHeaderCheck(b: Uint8Array): Promise<void> {
  const s = await getSodium();
  const h = new DataView(b.buffer, b.byteOffset).getUint16(10);
  b.set(s.crypto_generichash(16, b.subarray(0, h - 8), null).subarray(0, 8), h - 8);
}

describe("sealed profile format", () => {
  it("round-trips with a raw key", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    expect(Buffer.from(sealed.subarray(0, 8))).toEqual(Buffer.from(SEALED_MAGIC));
    expect(Buffer.from(await open(sealed, km))).toEqual(Buffer.from(PLAIN));
  });

  it("round-trips with a passphrase and stores the Argon2id parameters in the header", async () => {
    const sealed = await seal(PLAIN, pass("correct horse battery"), { argon: SMALL_ARGON });
    const h = await readSealedHeader(sealed);
    expect(h.kdf).toBe(1);
    expect(h.argon?.opslimit).toBe(1);
    expect(h.argon?.memlimit).toBe(8 * 1024 * 1024);
    expect(Buffer.from(await open(sealed, pass("correct horse battery")))).toEqual(Buffer.from(PLAIN));
  });

  it("never contains the clear text and uses a fresh nonce each time", async () => {
    const km = await rawKey();
    const a = await seal(PLAIN, km);
    const b = await seal(PLAIN, km);
    expect(Buffer.from(a).includes(Buffer.from("hunter22"))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it("reports AUTH_FAILED for a flip of any single byte of a key-sealed file", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    const codes = new Map<string, number[]>();
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(sealed);
        bad[i] ^= mask;
        const code = await codeOf(open(bad, km));
        if (code !== "ONAIR_PROFILE_AUTH_FAILED") codes.set(code, [...(codes.get(code) ?? []), i]);
      }
    }
    expect(Object.fromEntries(codes)).toEqual({});
  });

  it("reports AUTH_FAILED for a flip of any single byte of a passphrase-sealed file", async () => {
    const km = pass("pass phrase for flips");
    const sealed = await seal(PLAIN, km, { argon: SMALL_ARGON });
    const wrong: number[] = [];
    for (let i = 0; i < sealed.length; i++) {
      const bad = Uint8Array.from(sealed);
      bad[i] ^= 0x01;
      if ((await codeOf(open(bad, km))) !== "ONAIR_PROFILE_AUTH_FAILED") wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });

  it("reports WRONG_KEY for another key", async () => {
    const sealed = await seal(PLAIN, await rawKey());
    expect(await codeOf(open(sealed, await rawKey()))).toBe("ONAIR_PROFILE_WRONG_KEY");
  });

  it("reports WRONG_KEY for a wrong passphrase", async () => {
    const sealed = await seal(PLAIN, pass("the right one"), { argon: SMALL_ARGON });
    expect(await codeOf(open(sealed, pass("the wrong one")))).toBe("ONAIR_PROFILE_WRONG_KEY");
  });

  it("reports KEY_KIND when a passphrase file is given for a key-sealed file and vice versa", async () => {
    const km = await rawKey();
    expect(await codeOf(open(await seal(PLAIN, km), pass("whatever")))).toBe("ONAIR_PROFILE_KEY_KIND");
    const p = await seal(PLAIN, pass("whatever"), { argon: SMALL_ARGON });
    expect(await codeOf(open(p, km))).toBe("ONAIR_PROFILE_KEY_KIND");
  });

  it("reports TRUNCATED for the file cut at every length, and EMPTY for no bytes", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    const wrong: [number, string][] = [];
    for (let n = 1; n < sealed.length; n++) {
      const code = await codeOf(open(sealed.subarray(0, n), km));
      if (code !== "ONAIR_PROFILE_TRUNCATED") wrong.push([n, code]);
    }
    expect(wrong).toEqual([]);
    expect(await codeOf(open(new Uint8Array(0), km))).toBe("ONAIR_PROFILE_EMPTY");
  });

  it("reports UNKNOWN_VERSION for a consistent header of another version", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    sealed[8] = 2;
    await fixPrefixCheck(sealed);
    expect(await codeOf(open(sealed, km))).toBe("ONAIR_PROFILE_UNKNOWN_VERSION");
  });

  it("reports NOT_SEALED for a clear YAML file", async () => {
    expect(await codeOf(open(PLAIN, await rawKey()))).toBe("ONAIR_PROFILE_NOT_SEALED");
    expect(await codeOf(open(enc.encode("{}"), await rawKey()))).toBe("ONAIR_PROFILE_NOT_SEALED");
  });

  it("reports AUTH_FAILED for bytes appended after the sealed data", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect(await codeOf(open(longer, km))).toBe("ONAIR_PROFILE_AUTH_FAILED");
  });

  it("refuses out-of-range Argon2id parameters before deriving a key", async () => {
    const sealed = await seal(PLAIN, pass("some passphrase"), { argon: SMALL_ARGON });
    new DataView(sealed.buffer, sealed.byteOffset).setUint32(24, 0xffffffff); // memlimit 4 GiB
    await fixHeaderCheck(sealed);
    expect(await codeOf(open(sealed, pass("some passphrase")))).toBe("ONAIR_PROFILE_BAD_HEADER");
  });

  it("reports AUTH_FAILED when a header field is rewritten with consistent checks (header is associated data)", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    const h = new DataView(sealed.buffer, sealed.byteOffset).getUint16(10);
    sealed[h - 9] ^= 0x01; // last nonce byte
    await fixHeaderCheck(sealed);
    expect(await codeOf(open(sealed, km))).toBe("ONAIR_PROFILE_AUTH_FAILED");
  });

  it("puts no key material in error messages", async () => {
    const km = await rawKey();
    const sealed = await seal(PLAIN, km);
    const other = await rawKey();
    const err = await open(sealed, other).then(
      () => new Error("no error"),
      (e: unknown) => e as Error,
    );
    const hex = Buffer.from(other.kind === "key" ? other.key : new Uint8Array()).toString("hex");
    const b64 = Buffer.from(other.kind === "key" ? other.key : new Uint8Array()).toString("base64");
    expect(err.message).not.toContain(hex);
    expect(err.message).not.toContain(b64);
    expect(err.message).toContain("test key");
  });
});
