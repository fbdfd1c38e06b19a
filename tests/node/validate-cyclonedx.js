#!/usr/bin/env node
// validate-cyclonedx.js FILE: validates a CycloneDX 1.5 JSON document with
// @cyclonedx/cyclonedx-library's strict JSON validator (its own copy of
// the bom-1.5 schema, SPDX licence ids and formats). Exit 0 and "valid",
// 1 and the schema errors, 2 when the validator cannot run.
'use strict'
const fs = require('fs')
const CDX = require('@cyclonedx/cyclonedx-library')

const file = process.argv[2]
const text = fs.readFileSync(file, 'utf8')
const v = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5)
v.validate(text).then((errors) => {
  if (errors === null) {
    console.log('valid')
    process.exit(0)
  }
  console.log(JSON.stringify(errors, null, 1))
  process.exit(1)
}, (e) => {
  console.error('validator failed: ' + e)
  process.exit(2)
})
