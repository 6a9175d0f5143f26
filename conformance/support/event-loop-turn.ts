/**
 * Which turn of the kit's event loop a line arrived in. Everything the kernel holds for the kit's
 * sockets when the loop polls is read in that one turn, so two lines that arrive in different turns
 * were not both waiting there: the later one reached its socket after the earlier one was read.
 * Across connections, that is what the kit can know exactly about the order of a server's writes;
 * which of two lines of one turn was read first is only the order the kit looked at its sockets.
 */
let turn = 0;
let closing = false;

/** The current turn; the first call in a turn makes the turn end when the loop reaches its check phase. */
export function currentTurn(): number {
  if (!closing) {
    closing = true;
    setImmediate(() => {
      turn += 1;
      closing = false;
    });
  }
  return turn;
}
