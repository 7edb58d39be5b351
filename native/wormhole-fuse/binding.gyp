{
  "targets": [{
    "target_name": "wormhole_fuse",
    "include_dirs": [
      "<!(node -e \"require('fuse-shared-library/include')\")",
    ],
    "libraries": [
      "<!(node -e \"require('fuse-shared-library/lib')\")",
    ],
    "sources": ["wormhole-fuse.c"],
    "cflags": ["-g", "-O2", "-Wall", "-D_FILE_OFFSET_BITS=64"],
  }, {
    "target_name": "postinstall",
    "type": "none",
    "dependencies": ["wormhole_fuse"],
    "copies": [{
      "destination": "build/Release",
      "files": ["<!(node -e \"require('fuse-shared-library/lib')\")"],
    }]
  }]
}
