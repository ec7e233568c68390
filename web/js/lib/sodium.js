// sodium.js: the one place pages get libsodium's JavaScript build from
// (libsodium-wrappers-sumo, pinned in web/package-lock.json, served by tallyd
// from web/node_modules: nothing from a CDN). The wrappers' ES module imports
// "./libsodium-sumo.mjs" beside itself, which lives in the libsodium-sumo
// package: a page that loads this module needs the import map of
// member.html (tallyd's Content-Security-Policy allows that map by its hash,
// and WebAssembly by 'wasm-unsafe-eval').
import lib from '/node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs';

let ready = null;

// The ready libsodium instance (the first call waits for it to load).
export async function sodium() {
	if (!ready) ready = lib.ready.then(() => lib);
	return ready;
}

// The instance once sodium() has resolved; throws before.
export function sodiumNow() {
	if (!lib.crypto_sign_detached) throw new Error('libsodium is not ready: await sodium() first');
	return lib;
}
