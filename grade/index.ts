/**
 * The grader as a library: grade a roster of servers and clients through the labs, write the class
 * report, merge the outputs of shards.
 */
export { gradableLabs, gradeCommand, selectLabs } from './command.ts';
export { formatGradebook, GRADE_FILES, readGrades, writeGrades } from './gradebook.ts';
export { type ClassGradingOptions, type GradingEvent, gradeClass, withLimitFlags } from './grader.ts';
export { mergeGrades } from './merge.ts';
export {
  GRADES_SCHEMA,
  type GradedLab,
  type GradesFile,
  type LabGrade,
  type StudentGrade,
  type Verdict,
} from './model.ts';
export {
  loadRoster,
  parseCsv,
  parseShard,
  RosterError,
  SUBMISSION_KINDS,
  type Submission,
  type SubmissionKind,
  selectShard,
} from './roster.ts';
export {
  DEFAULT_RESOURCE_LIMITS,
  describeExitStatus,
  type ResourceLimits,
  sandboxScript,
} from './sandbox.ts';
export { loadWeights, type Weights } from './weights.ts';
