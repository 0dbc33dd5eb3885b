// Relative asset URLs (the app may be served under any path).
export default { base: "./" };
