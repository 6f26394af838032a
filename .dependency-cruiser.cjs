/** Dependencies point inward only: domain <- application <- infrastructure, interfaces. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain imports nothing outside itself: no application, adapters, frameworks or node built-ins.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: '^src/domain' },
    },
    {
      name: 'application-depends-only-on-domain',
      comment: 'src/application may import the domain and itself, never adapters, interfaces or I/O packages.',
      severity: 'error',
      from: { path: '^src/application' },
      to: {
        pathNot: '^src/(application|domain)',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'infrastructure-does-not-import-interfaces',
      severity: 'error',
      from: { path: '^src/infrastructure' },
      to: { path: '^src/interfaces' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
