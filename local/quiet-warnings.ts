/**
 * Turns off the AWS SDK's notice that its releases after January 2027 need Node 22: it is about the SDK's
 * support policy, not about this run. Imported first, before any SDK client is made.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
