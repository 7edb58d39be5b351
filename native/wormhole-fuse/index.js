// Loads the compiled binding (build/Release/wormhole_fuse.node); see README.md.
module.exports = require('node-gyp-build')(__dirname)
