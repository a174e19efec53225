# dicom-fhir-agent: one image, every role (`dfa serve`, `dfa worker`, `dfa demo`, `dfa fhir serve`...).
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip DFA_DATA_DIR=/data
COPY package.json package-lock.json ./
# The `node` devDependency only pins Node 24 for machines that have another Node; the image has it.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY models ./models
VOLUME /data
# REST API (DFA_API_PORT), our DICOM SCP (DFA_SCP_PORT), `dfa service` ml / storage / dicom / fhir
EXPOSE 8080 11112 8091 8092 8093 8094
USER node
ENTRYPOINT ["node", "bin/dfa.js"]
CMD ["serve"]
