#!/usr/bin/env node
import { reexecWithHugePages } from '../runtime/huge-pages.ts';

// Before anything big is loaded: big columns want transparent huge pages (main/runtime/huge-pages.ts).
reexecWithHugePages();
const { runCli } = await import('./program.ts');
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
