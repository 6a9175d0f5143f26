/**
 * The words scenarios use for clients: `{member}` is one label (`alice`), `{members}` a list
 * (`alice, bob and carol`). Labels are stable across scenarios; usernames are unique per scenario.
 */
import { defineParameterType } from '@cucumber/cucumber';

/** The labels scenarios may use, as a regular expression source (for regex steps). */
export const MEMBER = '(?:alice|bob|carol|dave|mallory|trudy)';

defineParameterType({
  name: 'member',
  regexp: new RegExp(MEMBER),
  transformer: (label: string) => label,
});

defineParameterType({
  name: 'members',
  regexp: new RegExp(`${MEMBER}(?:, ${MEMBER})*(?: and ${MEMBER})?`),
  transformer: (list: string) => list.split(/, | and /),
});

defineParameterType({
  name: 'boolean',
  regexp: /true|false/,
  transformer: (word: string) => word === 'true',
});
