/**
 * A faithful local Gemini API (v1alpha, v1beta and v1, as the official @google/genai SDK speaks them): Files,
 * Batch jobs on an emulated clock, generateContent / countTokens through a synthetic model,
 * quotas, injected faults and a billing ledger. Point the SDK at it with `httpOptions.baseUrl`.
 */
export { startEmulator, EmulatorListenError, type HeldFile, type RunningEmulator } from './server.js';
export type { EmulatorOptions, EmulatorQuotas } from './options.js';
export type { TurnaroundRange } from './turnaround.js';
export { EmulatorOptionError, DEFAULT_QUOTAS } from './options.js';
export type { FaultPlan, JobFault, CallKind } from './fault-plan.js';
export type { RetryDelayPrecision } from './quotas.js';
export { parseFaultPlan, FaultPlanError, HTTP_FAULTS, CALL_KINDS } from './fault-plan.js';
export type { Ledger, LedgerEntry, LedgerTotals } from './ledger.js';
export type { RecordFault, Responder, ModelCall, WireGenerateRequest } from './model/index.js';
export type { TierOptions, TierQuotas, TierBehaviour } from './service-tiers.js';
export { DEFAULT_TIERS } from './service-tiers.js';
