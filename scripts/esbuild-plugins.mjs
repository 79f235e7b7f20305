/**
 * esbuild plugins shared by scripts/build.mjs and scripts/build-exe.mjs.
 *
 * deflatehd and inflatehd run no subprocess; commander require()s
 * child_process (which loads net and dgram) only for git-style subcommands
 * they do not have, so their bundles get an empty stub instead.
 */
export const noChildProcess = {
  name: 'no-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, () => ({ path: 'child_process', namespace: 'h2kit-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'h2kit-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};
