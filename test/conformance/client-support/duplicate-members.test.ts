import { describe, expect, it } from 'vitest';
import { duplicateMember } from '../../../conformance/client-support/duplicate-members.ts';

describe('duplicateMember', () => {
  it('finds a name used twice in one object', () => {
    expect(duplicateMember('{"type": "message", "message": "x", "type": "handshake"}')).toBe('type');
  });
  it('finds it in a nested object, and tells escapes apart', () => {
    expect(duplicateMember('{"a": {"b": 1, "b": 2}}')).toBe('b');
    expect(duplicateMember('{"a\\"b": 1, "a\\u0022b": 2}')).toBe('a"b');
  });
  it('accepts the same name in different objects, and equal values', () => {
    expect(duplicateMember('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": "a"}')).toBeUndefined();
    expect(duplicateMember('{"x": ["x", "x"], "y": "x"}')).toBeUndefined();
  });
  it('says nothing about text that is not JSON', () => {
    expect(duplicateMember('{"open')).toBeUndefined();
  });
});
