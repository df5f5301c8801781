// A small ESLint rule that enforces Vantage's layer boundaries on resolved paths
// (relative specifiers are resolved against the importing file, so depth does not matter).
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Which project areas each area may import from. Paths are relative to the repo root. */
const RULES = [
  // Build configuration runs in Node at build time, not in the page.
  { from: 'renderer/vite.config.ts', allow: ['renderer/'], forbidPackages: ['electron'], nodeBuiltins: true },
  { from: 'main/core/', allow: ['main/core/', 'shared/'], forbidPackages: ['electron'], nodeBuiltins: true },
  { from: 'shared/', allow: ['shared/'], forbidPackages: ['electron'], nodeBuiltins: false },
  { from: 'renderer/', allow: ['renderer/', 'shared/'], forbidPackages: ['electron'], nodeBuiltins: false },
  { from: 'preload/', allow: ['preload/', 'shared/'], forbidPackages: [], nodeBuiltins: false },
  { from: 'main/electron/', allow: ['main/', 'shared/'], forbidPackages: [], nodeBuiltins: true },
  {
    from: 'main/',
    allow: ['main/', 'shared/', 'package.json'],
    forbidPackages: ['electron'],
    nodeBuiltins: true,
  },
];

function areaOf(file) {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  return { rel, rule: RULES.find((r) => rel.startsWith(r.from)) };
}

export const boundariesPlugin = {
  rules: {
    layers: {
      meta: { type: 'problem', schema: [] },
      create(context) {
        const { rel, rule } = areaOf(context.filename);
        if (!rule || /\.test\.tsx?$/.test(rel)) return {};
        function check(node, spec) {
          if (typeof spec !== 'string') return;
          if (spec.startsWith('.')) {
            const target = path
              .relative(ROOT, path.resolve(path.dirname(context.filename), spec))
              .split(path.sep)
              .join('/');
            if (!rule.allow.some((a) => target.startsWith(a) || target === a.replace(/\/$/, ''))) {
              context.report({
                node,
                message: `${rule.from} may import only ${rule.allow.join(', ')} (found ${target}).`,
              });
            }
            return;
          }
          const isBuiltin = spec.startsWith('node:');
          if (isBuiltin && !rule.nodeBuiltins) {
            context.report({ node, message: `${rule.from} must not import Node built-ins (${spec}).` });
          }
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
          if (rule.forbidPackages.includes(pkg)) {
            context.report({ node, message: `Only main/electron and preload may import ${pkg}.` });
          }
        }
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
        };
      },
    },
  },
};
