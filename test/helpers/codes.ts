/** Runs `fn` and returns the LedgerError code it throws (or 'no error'), so a table can compare codes. */
export async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'no error';
  } catch (error) {
    return (error as { code?: string }).code ?? `not a LedgerError: ${String(error)}`;
  }
}
