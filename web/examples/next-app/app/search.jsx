"use client";
// A client component: m2v-edge runs in the browser (the "browser" condition: the pooling kernel, no ONNX Runtime).
import { useEffect } from "react";

import { showExample } from "./page-example.js";

export default function Search() {
  useEffect(() => {
    showExample(new URL("../model/", location.href).href);
  }, []);
  return <ol id="results"></ol>;
}
