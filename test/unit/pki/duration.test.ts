import { describe, expect, it } from 'vitest';
import { InvalidDurationError, parseDuration } from '../../../src/pki/index.js';

const HOUR = 3_600_000;

describe("Go-style durations (time.ParseDuration)", () => {
  it.each([
    ['2160h', 2160 * HOUR],
    ['720h', 720 * HOUR],
    ['10m', 10 * 60_000],
    ['90s', 90_000],
    ['1h30m', 1.5 * HOUR],
    ['1.5h', 1.5 * HOUR],
    ['.5s', 500],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
  ])('reads %s', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ['', /empty/],
    ['720', /numbers with units/],
    ['h', /numbers with units/],
    ['3d', /unknown unit "d"/],
    ['1h 30m', /numbers with units/],
    ['-1h', /sign/],
    ['+1h', /sign/],
  ])('refuses %j', (input, reason) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
    expect(() => parseDuration(input)).toThrow(reason);
  });
});
