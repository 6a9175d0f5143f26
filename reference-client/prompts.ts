/**
 * Asking the person at the terminal for what the command line did not give: the username (echoed)
 * and the server password (never echoed, via @inquirer/password).
 */
import { createInterface } from 'node:readline';
import password from '@inquirer/password';

/** Thrown when the user cancels a prompt with Ctrl-C or Ctrl-D. */
export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';
}

export async function askUsername(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<string> {
  const rl = createInterface({ input, output, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('close', () => reject(new PromptCancelled('no username given')));
      rl.once('SIGINT', () => rl.close());
      rl.question('Username: ', (answer) => resolve(answer.trim()));
    });
  } finally {
    rl.close();
  }
}

export async function askPassword(): Promise<string> {
  try {
    return await password({ message: 'Server password:' });
  } catch (error) {
    if ((error as Error)?.name === 'ExitPromptError') throw new PromptCancelled('no password given');
    throw error;
  }
}
