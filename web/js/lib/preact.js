// preact.js: the one place the pages get Preact and htm from. The file is
// htm's standalone build (Preact, its hooks and htm in one ES module), which
// scripts/setup installs with `npm ci` from web/package-lock.json and tallyd
// serves from web/node_modules: no build step, nothing from a CDN.
export {
	html,
	render,
	h,
	createContext,
	useState,
	useEffect,
	useRef,
	useMemo,
	useCallback,
	useContext,
} from '/node_modules/htm/preact/standalone.module.js';
