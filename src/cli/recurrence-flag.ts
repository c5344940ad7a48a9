/**
 * Reading `--recurrence` values. qlik-cli takes one flag holding a list of quoted strings
 * (`'"RRULE:FREQ=DAILY","RRULE:FREQ=WEEKLY"'`); people also repeat the flag with one bare line each.
 * Both forms are accepted and may be mixed.
 */
export function parseRecurrenceFlag(value: string): string[] {
  const text = value.trim();
  if (!text.startsWith('"')) return [text];
  const out: string[] = [];
  const re = /\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new UsageError(`--recurrence: cannot read '${text}' as a list of quoted lines ("RRULE:…","RRULE:…")`);
    out.push(m[1]!.replace(/\\(.)/g, '$1'));
    pos = re.lastIndex;
  }
  return out;
}

/** A mistake in how the command was called: printed on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
