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
 *                   each append to the disk: RocksDB writes its log with the
 *                   default write options, sync off)
 *  single_appends_flushed
 *                   the same, each append followed by the only flush its
 *                   storage has (Hypercore's public API has none):
 *                   `core.core.db.db.flush()`, RocksDB's flush of the cores'
 *                   column family, which writes the memtable out as a new
 *                   table file and syncs it and the MANIFEST (about 4.5
 *                   fdatasync and 2.3 fsync calls per flush under strace).
 *                   Over at most FLUSHED_MAX blocks (it is slow), into a
 *                   fresh core of its own: the many small table files it
 *                   leaves slow every later write.
 *  batched_appends  `await core.append(blocks)` in batches of 1000 (one
 *                   signature per batch)
 *  catchup          a second, empty core with the first one's key, replicated
 *                   over loopback TCP (net, 127.0.0.1): timed from the
 *                   connection until `download({start: 0, end: n}).done()`
 *                   resolves, then checked to hold every block
 *
 * The source of the catch-up is the core of the batched appends, served by
 * a child process (this file with `serve DIR`), as Tally's catch-up runs
 * between two tallyd processes: one Node.js process for both ends would put
 * both on one event loop (one core) and so understate Hypercore. Blocks are
 * random bytes of the size of one Tally attested exchange entry record (the
 * script passes what bench_side measured). Every figure is the best of
 * `runs`, the catch-up of at least CATCHUP_RUNS_MIN (from the last source). Output lines are `hypercore NAME VALUE`; everything else is
 * commentary on stderr. Installs nothing itself.
 *
 * Usage: node bench.js [blocks [block_bytes [runs]]]
 *        node bench.js serve DIR   (the catch-up's source, run by the above:
 *                                   sends {port}, stops on 'stop')
 *   blocks       default 100000, or 10000 with BENCH_QUICK=1
 *   block_bytes  default 219 (a Tally attested exchange record)
 *   runs         default 1
 */
const fs = require('fs')
const os = require('os')
const path = require('path')
const net = require('net')
const crypto = require('crypto')
const childProcess = require('child_process')
const Hypercore = require('hypercore')

const BATCH = 1000
const FLUSHED_MAX = 2000
const CATCHUP_TIMEOUT_MS = 600000
const CATCHUP_RUNS_MIN = 3 // the catch-up varies most: best of at least this (as bench_side)

function now () {
  return Number(process.hrtime.bigint()) / 1e9
}

function note (s) {
  process.stderr.write(s + '\n')
}

function listen (server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
}

// Both ends of a replication over a socket; errors end the stream, and a
// failed catch-up shows as its timeout or a short core.
function replicateOver (core, isInitiator, sock) {
  const s = core.replicate(isInitiator, { keepAlive: false })
  s.on('error', () => {})
  sock.on('error', () => {})
  sock.pipe(s).pipe(sock)
  return s
}

// ---- the catch-up's source, in a child process ----

async function serve (dir) {
  const core = new Hypercore(dir)
  await core.ready()
  const open = []
  const server = net.createServer((sock) => {
    open.push(sock, replicateOver(core, false, sock))
  })
  const port = await listen(server)
  process.on('message', async (m) => {
    if (m !== 'stop') return
    for (const x of open) x.destroy()
    await new Promise((resolve) => server.close(resolve))
    await core.close()
    process.exit(0)
  })
  process.on('disconnect', () => process.exit(1))
  process.send({ port, length: core.length })
}

// ---- the benchmark ----

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

let root = null
let dirs = 0
let child = null

function freshDir () {
  return path.join(root, 'core' + (dirs++))
}

function cleanup () {
  if (child) child.kill('SIGKILL')
  if (root) fs.rmSync(root, { recursive: true, force: true })
}

async function singleAppends (blocks) {
  const core = new Hypercore(freshDir())
  await core.ready()
  const t0 = now()
  for (let i = 0; i < blocks.length; i++) await core.append(blocks[i])
  const secs = now() - t0
  if (core.length !== blocks.length) throw new Error('single appends: length ' + core.length)
  await core.close()
  return secs
}

// Each append followed by the storage's flush (see the header); seconds.
async function flushedAppends (blocks) {
  const core = new Hypercore(freshDir())
  await core.ready()
  const storage = core.core && core.core.db && core.core.db.db
  if (!storage || typeof storage.flush !== 'function') {
    throw new Error('flushed appends: this hypercore has no core.core.db.db.flush()')
  }
  const t0 = now()
  for (let i = 0; i < blocks.length; i++) {
    await core.append(blocks[i])
    await storage.flush()
  }
  const secs = now() - t0
  if (core.length !== blocks.length) throw new Error('flushed appends: length ' + core.length)
  await core.close()
  return secs
}

// The seconds, and the closed core's directory and key: the catch-up's source.
async function batchedAppends (blocks) {
  const dir = freshDir()
  const core = new Hypercore(dir)
  await core.ready()
  const t0 = now()
  for (let i = 0; i < blocks.length; i += BATCH) await core.append(blocks.slice(i, i + BATCH))
  const secs = now() - t0
  if (core.length !== blocks.length) throw new Error('batched appends: length ' + core.length)
  const key = core.key
  await core.close()
  return { secs, dir, key }
}

function startSource (dir) {
  return new Promise((resolve, reject) => {
    child = childProcess.fork(__filename, ['serve', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error('the source process exited (' + code + ')')))
    child.once('error', reject)
  })
}

function stopSource () {
  return new Promise((resolve) => {
    const c = child
    child = null
    c.removeAllListeners('exit')
    c.once('exit', resolve)
    c.send('stop')
  })
}

async function catchup (src, blocks) {
  const hello = await startSource(src.dir)
  if (hello.length !== blocks.length) throw new Error('the source holds ' + hello.length + ' blocks')
  const dst = new Hypercore(freshDir(), src.key)
  await dst.ready()
  const t0 = now()
  const sock = net.connect(hello.port, '127.0.0.1')
  const s = replicateOver(dst, true, sock)
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
  s.destroy()
  sock.destroy()
  await stopSource()
  await dst.close()
  return secs
}

async function bench () {
  const quick = process.env.BENCH_QUICK === '1'
  const n = intArg(process.argv[2], quick ? 10000 : 100000, 1000, 10000000)
  const blockBytes = intArg(process.argv[3], 219, 1, 65536)
  const runs = intArg(process.argv[4], 1, 1, 5)
  if (process.argv.length > 5) usage()
  root = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'tally-hypercore-'))
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      cleanup()
      process.exit(128 + os.constants.signals[sig])
    })
  }
  const pkg = require('hypercore/package.json')
  note('bench.js: hypercore ' + pkg.version + ', node ' + process.version + ', ' + n +
    ' blocks of ' + blockBytes + ' bytes, ' + runs + ' run(s), ' + os.cpus().length +
    ' cores, load average ' + os.loadavg()[0].toFixed(2) + '; storage in ' + root)
  const blocks = []
  for (let i = 0; i < n; i++) blocks.push(crypto.randomBytes(blockBytes))
  const best = { single: Infinity, flushed: Infinity, batched: Infinity, catchup: Infinity }
  const nf = Math.min(n, FLUSHED_MAX)
  let src = null
  let cruns = 0
  for (let r = 0; r < runs; r++) {
    const single = await singleAppends(blocks)
    note('run ' + (r + 1) + ': single appends ' + single.toFixed(2) + ' s (' +
      Math.round(n / single) + '/s)')
    const flushed = await flushedAppends(blocks.slice(0, nf))
    note('run ' + (r + 1) + ': single appends, each flushed, ' + flushed.toFixed(2) + ' s (' +
      Math.round(nf / flushed) + '/s, ' + nf + ' blocks)')
    best.flushed = Math.min(best.flushed, flushed)
    src = await batchedAppends(blocks)
    note('run ' + (r + 1) + ': batched appends (' + BATCH + ' per batch) ' +
      src.secs.toFixed(2) + ' s (' + Math.round(n / src.secs) + '/s)')
    best.single = Math.min(best.single, single)
    best.batched = Math.min(best.batched, src.secs)
  }
  while (cruns < Math.max(runs, CATCHUP_RUNS_MIN)) {
    const c = await catchup(src, blocks)
    note('catch-up run ' + (++cruns) + ': ' + c.toFixed(2) + ' s (' + Math.round(n / c) +
      '/s), source in a child process')
    best.catchup = Math.min(best.catchup, c)
  }
  console.log('hypercore version ' + pkg.version)
  console.log('hypercore block_bytes ' + blockBytes)
  console.log('hypercore blocks ' + n)
  console.log('hypercore single_appends_per_s ' + Math.round(n / best.single))
  console.log('hypercore single_appends_flushed_per_s ' + Math.round(nf / best.flushed))
  console.log('hypercore batched_appends_per_s ' + Math.round(n / best.batched))
  console.log('hypercore catchup_per_s ' + Math.round(n / best.catchup))
}

if (process.argv[2] === 'serve') {
  if (process.argv.length !== 4 || !process.send) usage()
  serve(process.argv[3]).catch((err) => {
    console.error('bench.js serve: ' + (err && err.stack ? err.stack : err))
    process.exit(1)
  })
} else {
  bench().then(() => {
    cleanup()
    process.exit(0)
  }, (err) => {
    console.error('bench.js: ' + (err && err.stack ? err.stack : err))
    cleanup()
    process.exit(1)
  })
}
