/** Small stdin/stdout helpers shared by CLI commands. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function out(line: string): void {
  process.stdout.write(line.endsWith("\n") ? line : `${line}\n`);
}
