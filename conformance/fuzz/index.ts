export { checkTrace, ROOM_ORDER, type Violation } from './checker.ts';
export { fuzzCommand } from './command.ts';
export { type ExecutionTarget, executeHistory } from './executor.ts';
export { featureText, transcriptText } from './feature-writer.ts';
export { type Finding, type FuzzResult, fuzzServer, minimise, sessionFor } from './fuzz.ts';
export { formatHistory, type History, parseHistory, type Step } from './history.ts';
export { FuzzSession } from './session.ts';
