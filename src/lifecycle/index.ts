export { flightKeys, type Flight } from './flight.js';
export { outputDocument, type OutputFacts } from './output-document.js';
export {
  RecordLifecycle,
  type LifecycleStore,
  type RecordLifecycleDeps,
  type SettledFailure,
  type SettledSuccess,
  type SettlementEvent,
} from './record-lifecycle.js';
