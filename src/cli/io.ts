/** Small stdin/stdout helpers shared by CLI commands. */
/**
 * Reads stdin as UTF-8. With `maxBytes`, stops reading once more than that has arrived and
 * returns what it has (longer than `maxBytes`, so the caller's own length check refuses it).
 */
export async function readStdin(maxBytes = Number.POSITIVE_INFINITY): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total > maxBytes) break;
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function out(line: string): void {
  process.stdout.write(line.endsWith("\n") ? line : `${line}\n`);
}
