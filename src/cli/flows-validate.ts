/** `linkline flows validate [--flows DIR] [--locales DIR] [--report]`. Returns the exit code. */
export async function runFlowsValidate(_argv: string[]): Promise<number> {
  throw new Error('not implemented yet');
}
