#!/usr/bin/env node
// Thin launcher so `npx tollgate <verb>` works from the checkout after `npm ci` (which builds dist/).
import '../dist/src/cli/main.js';
