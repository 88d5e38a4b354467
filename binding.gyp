{
  "targets": [
    {
      "target_name": "ioreactor",
      "variables": {
        "ioreactor_openssl": "<!(node scripts/check-node-openssl.js)"
      },
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native').filter(function (f) { return f.slice(-3) === '.cc'; }).map(function (f) { return 'native/' + f; }).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-O3"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15",
        "GCC_OPTIMIZATION_LEVEL": "2",
        "WARNING_CFLAGS": ["-Wall", "-Wextra"]
      }
    }
  ]
}
