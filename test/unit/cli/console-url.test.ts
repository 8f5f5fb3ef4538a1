import { executionConsoleUrl } from '../../../cli/console-url';

describe('executionConsoleUrl', () => {
  it('links the Step Functions console page of the execution in its region', () => {
    const arn = 'arn:aws:states:eu-west-1:111122223333:execution:ConvertManifest:orders-20261123-000042-r1';

    expect(executionConsoleUrl(arn)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${arn}`,
    );
  });

  it("uses the console of the ARN's partition", () => {
    const cn = 'arn:aws-cn:states:cn-north-1:111122223333:execution:M:x';
    const gov = 'arn:aws-us-gov:states:us-gov-west-1:111122223333:execution:M:x';

    expect(executionConsoleUrl(cn)).toMatch(/^https:\/\/cn-north-1\.console\.amazonaws\.cn\/states\/home\?region=cn-north-1#/);
    expect(executionConsoleUrl(gov)).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\/states\/home\?region=us-gov-west-1#/);
  });

  it('refuses what is not an ARN', () => {
    expect(() => executionConsoleUrl('orders-20261123-000042')).toThrow('not an execution ARN');
  });
});
