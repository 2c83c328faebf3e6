import { describe, expect, it } from 'vitest';
import { withoutProtoDefaults } from '../src/grpc-surface.js';

describe('withoutProtoDefaults', () => {
  it('drops what proto3 cannot tell from absent, so the domain sees the request as in Lambda JSON', () => {
    const decoded = {
      CapacityProviderName: 'fleet',
      VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: [] },
      InstanceRequirements: { Architectures: [], AllowedInstanceTypes: [], ExcludedInstanceTypes: [] },
      Tags: {},
      KmsKeyArn: undefined,
    };
    expect(withoutProtoDefaults(decoded)).toEqual({ CapacityProviderName: 'fleet', VpcConfig: { SubnetIds: ['subnet-1'] } });
  });

  it('keeps binary fields, zeros, empty strings and false as given', () => {
    const zip = new Uint8Array([1, 2, 3]);
    expect(withoutProtoDefaults({ ZipFile: zip, Timeout: 0, Description: '', Publish: false })).toEqual({
      ZipFile: zip,
      Timeout: 0,
      Description: '',
      Publish: false,
    });
  });
});
