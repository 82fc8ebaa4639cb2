// Small progressive enhancements shared by every page. Everything works
// without this script; it only saves clicks.
"use strict";
