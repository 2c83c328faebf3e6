import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException } from '@hearth/errors';
import { lambdaRoutes, operationForRequest, operationNames } from '../src/index.js';

describe('the route table', () => {
  it('has exactly one route per operation of spec §8', () => {
    expect(lambdaRoutes.map((route) => route.operation).sort()).toEqual([...operationNames].sort());
    expect(operationNames).toHaveLength(34);
  });

  it('has no two routes a single request could match', () => {
    const seen = new Set(lambdaRoutes.map((route) => `${route.method} ${route.path.replace(/\{[^}]+\}/g, '{}')}`));
    expect(seen.size).toBe(lambdaRoutes.length);
  });

  it('finds every operation from its own path template', () => {
    for (const route of lambdaRoutes) {
      const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => `sample-${name}`);
      const match = operationForRequest(route.method, path);
      expect(match?.operation, `${route.method} ${path}`).toBe(route.operation);
    }
  });
});

describe('operationForRequest', () => {
  it('decodes a function ARN label, keeping its colons, and ignores the query string', () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:my-fn:live';
    const match = operationForRequest('GET', `/2015-03-31/functions/${encodeURIComponent(arn)}?Qualifier=3`);
    expect(match?.operation).toBe('GetFunction');
    expect(match?.params).toEqual({ FunctionName: arn });
  });

  it('keeps an encoded slash inside one label', () => {
    const match = operationForRequest('GET', '/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Aa%2Fb');
    expect(match?.params).toEqual({ Resource: 'arn:aws:lambda:us-east-1:1:function:a/b' });
  });

  it('tells apart operations that share a path by method', () => {
    expect(operationForRequest('GET', '/2015-03-31/functions')?.operation).toBe('ListFunctions');
    expect(operationForRequest('POST', '/2015-03-31/functions')?.operation).toBe('CreateFunction');
    expect(operationForRequest('post', '/2019-09-25/functions/f/event-invoke-config')?.operation).toBe(
      'UpdateFunctionEventInvokeConfig',
    );
    expect(operationForRequest('PUT', '/2019-09-25/functions/f/event-invoke-config')?.operation).toBe(
      'PutFunctionEventInvokeConfig',
    );
  });

  it('returns undefined for unknown paths, wrong methods and empty labels', () => {
    expect(operationForRequest('GET', '/2015-03-31/nothing')).toBeUndefined();
    expect(operationForRequest('PATCH', '/2015-03-31/functions')).toBeUndefined();
    expect(operationForRequest('GET', '/2015-03-31/functions//configuration')).toBeUndefined();
  });

  it('rejects invalid percent-encoding with InvalidParameterValueException', () => {
    expect(() => operationForRequest('GET', '/2015-03-31/functions/%E0%A4%A')).toThrow(InvalidParameterValueException);
  });
});
