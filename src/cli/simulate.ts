/** `linkline simulate <flow> [--lang L] [--script FILE]`. Returns the exit code. */
export async function runSimulate(_argv: string[]): Promise<number> {
  throw new Error('not implemented yet');
}
