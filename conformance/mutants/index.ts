/**
 * The kit's faulty servers: the catalogue, the proxy that makes them, and scoring a set of
 * features by how many it detects.
 */
export { findMutant, MUTANTS, type Mutant, mutantSlug } from './catalogue.ts';
export { formatMutantList, mutantCommand, resolveAnyMutant, resolveMutant } from './command.ts';
export { type Fault, FaultProxy } from './fault-proxy.ts';
export { RACE_MUTANTS, type RaceMutant } from './races.ts';
