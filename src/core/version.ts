declare const __HARN_VERSION__: string | undefined;

/** The package version, inlined by the bundler (scripts/build.mjs) so start-up reads no package.json. */
export const VERSION: string = typeof __HARN_VERSION__ === 'string' ? __HARN_VERSION__ : '0.0.0-dev';
