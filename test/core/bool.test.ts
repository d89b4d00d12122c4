import { describe, expect, it } from 'vitest';
import { parseBool } from '../../src/core/index.js';

describe('parseBool', () => {
  it.each([
    [true, true],
    ['True', true],
    ['true', true],
    [' TRUE ', true],
    ['1', true],
    [false, false],
    ['False', false],
    ['false', false],
    ['', false],
    ['no', false],
    [null, false],
    [undefined, false],
  ] as const)('%j → %s', (input, expected) => {
    expect(parseBool(input)).toBe(expected);
  });
});
