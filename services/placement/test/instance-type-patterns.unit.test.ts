import { describe, expect, it } from 'vitest';
import { compileInstanceTypeLists, matchesInstanceTypePattern } from '../src/decisions/index.js';

describe('instance type patterns', () => {
  it.each<[string, string, boolean]>([
    ['m7g.*', 'm7g.2xlarge', true],
    ['m7g.*', 'm7g.large', true],
    ['m7g.*', 'm7gd.large', false],
    ['m7g.*', 'm6g.large', false],
    ['c*', 'c7g.large', true],
    ['c*', 'c5.24xlarge', true],
    ['c*', 'm5.large', false],
    ['*.large', 'r8g.large', true],
    ['*.large', 'r8g.xlarge', false],
    ['*.*xlarge', 'r8g.xlarge', true],
    ['*g.*', 'm8g.4xlarge', true],
    ['*g.*', 'm7i.4xlarge', false],
    ['m7g.2xlarge', 'm7g.2xlarge', true],
    ['m7g.2xlarge', 'm7g.12xlarge', false],
    ['M7G.*', 'm7g.large', true],
    ['*', 'c6a.8xlarge', true],
    // Only * is a wildcard: a dot is a dot, not "any character".
    ['c7g.large', 'c7gxlarge', false],
    ['c7?.large', 'c7g.large', false],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(matchesInstanceTypePattern(name, pattern)).toBe(expected);
  });

  it.each<[{ AllowedInstanceTypes?: string[]; ExcludedInstanceTypes?: string[] }, string[]]>([
    [{}, ['c7g.large', 'm5.large', 'r8g.24xlarge']],
    [{ AllowedInstanceTypes: [] }, ['c7g.large', 'm5.large', 'r8g.24xlarge']],
    [{ AllowedInstanceTypes: ['c7g.*', '*.24xlarge'] }, ['c7g.large', 'r8g.24xlarge']],
    [{ ExcludedInstanceTypes: ['m*'] }, ['c7g.large', 'r8g.24xlarge']],
    [{ ExcludedInstanceTypes: ['*'] }, []],
  ])('lists %j admit %j', (lists, admitted) => {
    const passes = compileInstanceTypeLists(lists);
    expect(['c7g.large', 'm5.large', 'r8g.24xlarge'].filter(passes)).toEqual(admitted);
  });
});
