// Entry point of the sweeper Lambda. Not implemented yet: the stack needs the file to exist to build.
export const handler = async (): Promise<never> => {
  throw new Error('sweeper: not implemented yet');
};
