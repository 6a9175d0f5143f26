/**
 * yargs turns what was typed for a numeric option into NaN when it is not a number, and a check
 * after that can only say "got NaN". This runs before every command's checks and says what was
 * typed instead; the command's own failure handler prints it (one line, exit 2).
 */
export function rejectNonNumbers(typedArgs: readonly string[]): (argv: Record<string, unknown>) => true {
  return (argv) => {
    for (const [name, value] of Object.entries(argv)) {
      // Each option appears under its kebab-case name and a camelCase alias: report the first.
      if (!Number.isNaN(value) || typeof value !== 'number' || /[A-Z]/.test(name)) continue;
      throw new Error(`--${name} takes a number, got '${typedText(typedArgs, name) ?? value}'`);
    }
    return true;
  };
}

/** The text given last for `--name` (as `--name TEXT` or `--name=TEXT`). */
function typedText(typedArgs: readonly string[], name: string): string | undefined {
  let text: string | undefined;
  typedArgs.forEach((arg, index) => {
    if (arg === `--${name}`) text = typedArgs[index + 1];
    else if (arg.startsWith(`--${name}=`)) text = arg.slice(name.length + 3);
  });
  return text;
}
