/**
 * Lines for the person starting Tessera (the generated admin secret) go to stdout, where the log's
 * other first-start lines go, so `tessera start > start.txt` keeps them together; never into a log line.
 */
export const printToStdout = (text: string): void => void process.stdout.write(text + '\n');
