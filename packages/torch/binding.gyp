{
  "targets": [
    {
      "target_name": "hcc_torch",
      "sources": ["<!@(node scripts/torch-config.mjs sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(node scripts/torch-config.mjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14", "-std=gnu++20"],
      "cflags_cc": [
        "-O2", "-fexceptions", "-frtti", "-fopenmp", "-fno-trapping-math",
        "-Wno-unused-parameter", "-Wno-unused-variable", "-Wno-deprecated-declarations",
        "<!@(node scripts/torch-config.mjs cflags)"
      ],
      "libraries": ["<!@(node scripts/torch-config.mjs libs)"],
      "ldflags": ["-fopenmp"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_ENABLE_CPP_RTTI": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      }
    }
  ]
}
