window.__ENV={NODE_ENV:"production",PUBLIC_URL:"https://acme.example",npm_lifecycle_event:"build",npm_package_name:"acme-site",GITHUB_SHA:"{{hex:40}}",GITHUB_RUN_ID:"{{digits:10}}"};
