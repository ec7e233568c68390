'use strict'
/*
 * bench.js: Hypercore's side of Tally's side-by-side benchmark (issue 6;
 * scripts/bench-hypercore installs the packages of package-lock.json with
 * `npm ci`, runs tests/bench/bench_side for Tally's side, then this, and
 * prints the ratios). Three figures, in blocks per second, each over fresh
 * cores in their default storage (hypercore-storage, RocksDB) in a temp dir
 * removed at the end:
 *
 *  single_appends   `await core.append(block)` one block at a time (Hypercore
 *                   signs the new tree head on every append; it does not sync
 *                   each append to the disk)
 *  batched_appends  `await core.append(blocks)` in batches of 1000 (one
 *                   signature per batch)
 *  catchup          a second, empty core with the first one's key, replicated
 *                   over loopback TCP (net, 127.0.0.1): timed from the
 *                   connection until `download({start: 0, end: n}).done()`
 *                   resolves, then checked to hold every block
 *
 * The source of the catch-up is the core of the batched appends. Blocks are
 * random bytes of the size of one Tally attested exchange entry record (the
 * script passes what bench_side measured). Every figure is the best of
 * `runs`. Output lines are `hypercore NAME VALUE`; everything else is
 * commentary on stderr. Installs nothing itself.
 *
 * Usage: node bench.js [blocks [block_bytes [runs]]]
 *   blocks       default 100000, or 10000 with BENCH_QUICK=1
 *   block_bytes  default 219 (a Tally attested exchange record)
 *   runs         default 1
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const net = require('net')
const crypto = require('crypto')
const Hypercore = require('hypercore')

const BATCH = 1000
const CATCHUP_TIMEOUT_MS = 600000

function usage () {
  console.error('usage: node bench.js [blocks (1000..10000000) [block_bytes (1..65536) [runs (1..5)]]]')
  process.exit(2)
}

function intArg (s, def, min, max) {
  if (s === undefined) return def
  if (!/^[0-9]+$/.test(s)) usage()
  const v = Number(s)
  if (v < min || v > max) usage()
  return v
}

const quick = process.env.BENCH_QUICK === '1'
const n = intArg(process.argv[2], quick ? 10000 : 100000, 1000, 10000000)
const blockBytes = intArg(process.argv[3], 219, 1, 65536)
const runs = intArg(process.argv[4], 1, 1, 5)
if (process.argv.length > 5) usage()

const root = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'tally-hypercore-'))
let dirs = 0
function freshDir () {
  return path.join(root, 'core' + (dirs++))
}
function cleanup () {
  fs.rmSync(root, { recursive: true, force: true })
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup()
    process.exit(128 + os.constants.signals[sig])
  })
}

function now () {
  return Number(process.hrtime.bigint()) / 1e9
}

function note (s) {
  process.stderr.write(s + '\n')
}

async function newCore (key) {
  const core = key ? new Hypercore(freshDir(), key) : new Hypercore(freshDir())
  await core.ready()
  return core
}

async function singleAppends (blocks) {
  const core = await newCore()
  const t0 = now()
  for (let i = 0; i < blocks.length; i++) await core.append(blocks[i])
  const secs = now() - t0
  if (core.length !== blocks.length) throw new Error('single appends: length ' + core.length)
  await core.close()
  return secs
}

// Returns the seconds and the core, still open: the catch-up's source.
async function batchedAppends (blocks) {
  const core = await newCore()
  const t0 = now()
  for (let i = 0; i < blocks.length; i += BATCH) await core.append(blocks.slice(i, i + BATCH))
  const secs = now() - t0
  if (core.length !== blocks.length) throw new Error('batched appends: length ' + core.length)
  return { secs, core }
}

function listen (server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
}

async function catchup (src, blocks) {
  const dst = await newCore(src.key)
  const streams = []
  const server = net.createServer((sock) => {
    const s = src.replicate(false, { keepAlive: false })
    streams.push(s, sock)
    s.on('error', () => {})
    sock.on('error', () => {})
    sock.pipe(s).pipe(sock)
  })
  const port = await listen(server)
  const t0 = now()
  const sock = net.connect(port, '127.0.0.1')
  const s = dst.replicate(true, { keepAlive: false })
  streams.push(s, sock)
  s.on('error', () => {})
  sock.on('error', () => {})
  sock.pipe(s).pipe(sock)
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('catch-up: no end after ' +
      CATCHUP_TIMEOUT_MS / 1000 + ' s, ' + dst.contiguousLength + ' blocks held')), CATCHUP_TIMEOUT_MS)
  })
  await Promise.race([dst.download({ start: 0, end: blocks.length }).done(), timeout])
  const secs = now() - t0
  clearTimeout(timer)
  if (dst.contiguousLength !== blocks.length) {
    throw new Error('catch-up: ' + dst.contiguousLength + ' of ' + blocks.length + ' blocks')
  }
  for (const i of [0, blocks.length >> 1, blocks.length - 1]) {
    const b = await dst.get(i)
    if (!b.equals(blocks[i])) throw new Error('catch-up: block ' + i + ' differs')
  }
  for (const x of streams) x.destroy()
  await new Promise((resolve) => server.close(resolve))
  await dst.close()
  return secs
}

async function main () {
  const pkg = require('hypercore/package.json')
  note('bench.js: hypercore ' + pkg.version + ', node ' + process.version + ', ' + n +
    ' blocks of ' + blockBytes + ' bytes, ' + runs + ' run(s), ' + os.cpus().length +
    ' cores, load average ' + os.loadavg()[0].toFixed(2) + '; storage in ' + root)
  const blocks = []
  for (let i = 0; i < n; i++) blocks.push(crypto.randomBytes(blockBytes))
  const best = { single: Infinity, batched: Infinity, catchup: Infinity }
  for (let r = 0; r < runs; r++) {
    const single = await singleAppends(blocks)
    note('run ' + (r + 1) + ': single appends ' + single.toFixed(2) + ' s (' +
      Math.round(n / single) + '/s)')
    const { secs: batched, core } = await batchedAppends(blocks)
    note('run ' + (r + 1) + ': batched appends (' + BATCH + ' per batch) ' + batched.toFixed(2) +
      ' s (' + Math.round(n / batched) + '/s)')
    const c = await catchup(core, blocks)
    note('run ' + (r + 1) + ': catch-up ' + c.toFixed(2) + ' s (' + Math.round(n / c) + '/s)')
    await core.close()
    best.single = Math.min(best.single, single)
    best.batched = Math.min(best.batched, batched)
    best.catchup = Math.min(best.catchup, c)
  }
  console.log('hypercore version ' + pkg.version)
  console.log('hypercore block_bytes ' + blockBytes)
  console.log('hypercore blocks ' + n)
  console.log('hypercore single_appends_per_s ' + Math.round(n / best.single))
  console.log('hypercore batched_appends_per_s ' + Math.round(n / best.batched))
  console.log('hypercore catchup_per_s ' + Math.round(n / best.catchup))
}

main().then(() => {
  cleanup()
  process.exit(0)
}, (err) => {
  console.error('bench.js: ' + (err && err.stack ? err.stack : err))
  cleanup()
  process.exit(1)
})
