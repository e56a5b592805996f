/**
 * Where a value is in JSON text: `JSON.parse` keeps no positions, so errors find the line of
 * the value they name by one scan of the text (linear, constant stack; run on errors only).
 */

export type JsonPath = readonly (string | number)[];

interface Frame {
  array: boolean;
  /** object: the current key (undefined while a key is expected); array: the element index */
  key: string | number | undefined;
}

/** 1-based line where the value at `path` starts; undefined when the text has no such value. */
export function jsonLineOf(text: string, path: JsonPath): number | undefined {
  const stack: Frame[] = [];
  let line = 1;
  const at = (): boolean => stack.length === path.length && stack.every((f, d) => f.key === path[d]);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) line++;
    else if (c === 34 /* " */) {
      const end = stringEnd(text, i + 1);
      const top = stack[stack.length - 1] as Frame | undefined;
      if (top && !top.array && top.key === undefined) top.key = keyOf(text, i, end);
      else if (path.length === 0 || at()) return line;
      i = end;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (at()) return line;
      stack.push({ array: c === 91, key: c === 91 ? 0 : undefined });
    } else if (c === 125 /* } */ || c === 93 /* ] */) stack.pop();
    else if (c === 44 /* , */) {
      const top = stack[stack.length - 1] as Frame | undefined;
      if (top) top.key = top.array ? (top.key as number) + 1 : undefined;
    } else if (c > 32 && c !== 58 /* : */ && at()) return line; // number, true, false, null
  }
  return undefined;
}

/** Index of the quote closing the string whose text starts at `from`. */
function stringEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 34) return i;
  }
  return text.length;
}

function keyOf(text: string, open: number, close: number): string {
  try {
    return JSON.parse(text.slice(open, close + 1)) as string;
  } catch {
    return text.slice(open + 1, close);
  }
}
