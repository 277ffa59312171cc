// `npm run bench:bundle -- DIR [--no-node]`: the `--node-webgpu` bench packed for a machine with a
// GPU and no node_modules (nor Chromium), within the 64 MiB that travels to a lent GPU machine:
//   bench.mjs.xz                  the bench, one file (esbuild, minified; Playwright left out)
//   node_modules/webgpu/          the webgpu package's package.json and dawn.node (xz, unpacked by run.sh)
//   lib/libvulkan.so.1            this machine's Vulkan loader, for a machine without one
//   node.xz                       this node binary, for a machine without node (not with --no-node)
//   torch_step_timing.py, make_torch_fixtures.py   PyTorch's step times for the same cells
//   run.sh                        runs the bench, then PyTorch, and joins them (bench-results/README.md)
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { build, type Plugin } from 'esbuild';

const USAGE = 'Usage: npm run bench:bundle -- DIR [--no-node]';
const VULKAN_LOADER = '/lib/x86_64-linux-gnu/libvulkan.so.1';
const PLATFORM = `${process.platform}-${process.arch}`;

/** Playwright (the Chromium path) has no place in the bundle: a stand-in that says so if it is used. */
const withoutPlaywright: Plugin = {
  name: 'without-playwright',
  setup(builder) {
    builder.onResolve({ filter: /^@playwright\/test$/ }, () => ({ path: 'playwright', namespace: 'stub' }));
    builder.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export const chromium = { launch() { throw new Error("this bundle runs the bench in Node on Dawn only (--node-webgpu): it has no Playwright"); } };',
      loader: 'js',
    }));
  },
};

const RUN_SH = `#!/bin/sh
# The lab's bench in Node on Dawn, then PyTorch's step for the same cells, joined in one report.
#   sh run.sh [bench flags, e.g. --quick]     results in ./results (or $BENCH_OUT); PyTorch: $PYTHON or python3
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=\${BENCH_OUT:-$here/results}
[ -f "$here/bench.mjs" ] || xz -dk "$here/bench.mjs.xz"
[ -f "$here/node_modules/webgpu/dist/${PLATFORM}/dawn.node" ] || xz -dk "$here/node_modules/webgpu/dist/${PLATFORM}/dawn.node.xz"
node=node
if ! command -v node >/dev/null 2>&1; then
  [ -x "$here/node" ] || { xz -dkc "$here/node.xz" > "$here/node" && chmod +x "$here/node"; } || { echo "no node and no node.xz" >&2; exit 1; }
  node="$here/node"
fi
# The Vulkan loader: the system's if it has one, else the one packed beside this script.
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || export LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$out"
"$node" "$here/bench.mjs" --node-webgpu --out "$out" "$@"
status=$?
report=$(ls -t "$out"/*.json 2>/dev/null | grep -v -e '/torch\\.json$' -e '\\.shard-' | head -n 1)
[ -n "$report" ] || { echo "the bench wrote no report" >&2; exit 1; }
if "\${PYTHON:-python3}" "$here/torch_step_timing.py" --like "$report" --out "$out/torch.json"; then
  "$node" "$here/bench.mjs" --merge "$report" --torch "$out/torch.json" --out "$out" || status=$?
else
  echo "PyTorch's timing failed: the report has the lab's cells only" >&2
fi
exit $status
`;

function sizeMiB(path: string): string {
  return `${(statSync(path).size / 2 ** 20).toFixed(1)} MiB`;
}

function xz(source: string, target: string): void {
  writeFileSync(target, execFileSync('xz', ['-T0', '-6', '-c', source], { maxBuffer: 1 << 30 }));
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { 'no-node': { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const outDir = resolve(positionals[0]);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const bundle = join(outDir, 'bench.mjs');
  await build({
    entryPoints: ['scripts/bench.ts'],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Found at run time in node_modules/webgpu beside the bundle (dawn.ts resolves dawn.node from it).
    external: ['webgpu', 'webgpu/*'],
    plugins: [withoutPlaywright],
    // 13 MiB unminified (tfjs): the budget is 64 MiB with the working tree.
    minify: true,
    legalComments: 'none',
    // tfjs is CommonJS: its require() of Node's modules needs a require in an ES module.
    banner: { js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });

  xz(bundle, `${bundle}.xz`);
  rmSync(bundle);

  const webgpuDir = dirname(realpathSync(join('node_modules', 'webgpu', 'package.json')));
  const packed = join(outDir, 'node_modules', 'webgpu');
  mkdirSync(join(packed, 'dist', PLATFORM), { recursive: true });
  copyFileSync(join(webgpuDir, 'package.json'), join(packed, 'package.json'));
  xz(join(webgpuDir, 'dist', PLATFORM, 'dawn.node'), join(packed, 'dist', PLATFORM, 'dawn.node.xz'));

  if (existsSync(VULKAN_LOADER)) {
    mkdirSync(join(outDir, 'lib'));
    copyFileSync(VULKAN_LOADER, join(outDir, 'lib', 'libvulkan.so.1'));
  } else {
    console.warn(`no ${VULKAN_LOADER} here (apt-get install libvulkan1): the target machine must have its own Vulkan loader`);
  }
  for (const script of ['torch_step_timing.py', 'make_torch_fixtures.py']) copyFileSync(join('scripts', 'fixtures', script), join(outDir, script));
  if (!values['no-node']) xz(process.execPath, join(outDir, 'node.xz'));
  writeFileSync(join(outDir, 'run.sh'), RUN_SH);
  chmodSync(join(outDir, 'run.sh'), 0o755);

  const files = execFileSync('find', [outDir, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n').sort();
  for (const file of files) console.log(`${sizeMiB(file).padStart(9)}  ${file.slice(outDir.length + 1)}`);
  const total = Number(execFileSync('du', ['-sb', outDir], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`${(total / 2 ** 20).toFixed(1)} MiB in ${outDir}; run it with: sh ${join(outDir, 'run.sh')} --quick`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`bench:bundle failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
