/**
 * What an event (of table alias `t`) must be to be one of the log's attempts: an attempt, or a
 * record rejected before it could be sent. The attempt totals count these, and the exporters
 * (OpenTelemetry, Braintrust) send these, so both see the same attempts.
 */
export const isAttempt = (t: string) =>
  `(${t}.kind = 'attempt' OR (${t}.kind = 'record' AND ${t}.type = 'rejected'))`;
