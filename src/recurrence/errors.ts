/**
 * The one error the recurrence engine throws for bad input. Its message starts with the field it is
 * about (`recurrence[1]: BYDAY value 'XX' is not a weekday`), so it can go straight into an API
 * error's `detail` or a CLI's stderr.
 */
export class RecurrenceError extends Error {
  /** The input field at fault: `timeZone`, `startDateTime`, `endDateTime` or `recurrence[i]`. */
  readonly field: string;
  /** The reason alone, without the field prefix. */
  readonly reason: string;

  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'RecurrenceError';
    this.field = field;
    this.reason = reason;
  }
}
