"""The Kubernetes CronJob manifest (deploy/kubernetes/cronjob.yaml is this text, rendered)."""

from __future__ import annotations

CRONJOB = """\
# numerai-autopilot as a Kubernetes CronJob. Edit the names marked EDIT, then:
#   kubectl apply -f pvc.yaml -f cronjob.yaml
#   kubectl create secret generic numerai-autopilot \\
#     --from-file=public_id=./public_id --from-file=secret_key=./secret_key
#
# Why these slots ({cron}, UTC): Numerai opens a round Tue-Sat no
# earlier than 12:00 UTC for at least an hour (Saturday's closes on Sunday); the run reads the
# real open and close times from the API and submits only what is missing, so a few idempotent
# slots in the usual window ({per_week} a week, one API request each when nothing is due)
# catch every round and retry a failed model before the close.
# Exit codes: 0 ok, 1 a model failed (retried once, then by the next slot), 2 configuration
# (never retried), 3 no round open and 4 another run holds the lock are normal for a slot: tini
# (-e 3 -e 4) turns them into 0 so idle slots do not show up as failed Jobs. A stopped pod
# (SIGTERM) ends its run in seconds with 130: the models it had not finished are recorded as
# interrupted, and the next slot submits them.
apiVersion: batch/v1
kind: CronJob
metadata:
  name: numerai-autopilot  # EDIT if you run several
  labels:
    app.kubernetes.io/name: numerai-autopilot
spec:
  schedule: "{cron}"
  timeZone: Etc/UTC
  # A slot still running when the next comes: skip the new one (the run also holds a lock).
  concurrencyPolicy: Forbid
  # A slot missed by more than 10 minutes (controller down) is dropped: the next is 15 min later.
  startingDeadlineSeconds: 600
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 5
  jobTemplate:
    spec:
      backoffLimit: 1
      # Longer than the slowest expected run, shorter than a round's window.
      activeDeadlineSeconds: {deadline}
      ttlSecondsAfterFinished: 86400
      podFailurePolicy:
        rules:
          - action: FailJob  # a configuration error does not heal by retrying
            onExitCodes:
              containerName: autopilot
              operator: In
              values: [2]
          - action: Ignore  # evicted or preempted: start again, not a failure of ours
            onPodConditions:
              - type: DisruptionTarget
                status: "True"
      template:
        metadata:
          labels:
            app.kubernetes.io/name: numerai-autopilot
        spec:
          restartPolicy: Never
          automountServiceAccountToken: false
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            runAsGroup: 10001
            fsGroup: 10001
            seccompProfile:
              type: RuntimeDefault
          containers:
            - name: autopilot
              image: {image}  # EDIT: where you pushed the image
              imagePullPolicy: IfNotPresent
              command: {slot_command}
              env:
                - name: NUMERAI_PUBLIC_ID_FILE
                  value: /run/secrets/numerai/public_id
                - name: NUMERAI_SECRET_KEY_FILE
                  value: /run/secrets/numerai/secret_key
                - name: NUMERAI_MODELS_DIR
                  value: /models
                - name: NUMERAI_DATA_DIR
                  value: /data
                - name: NUMERAI_LOG_FORMAT
                  value: json
                - name: NUMERAI_WORKERS
                  value: "2"
              resources:
                requests:
                  cpu: "1"
                  memory: 2Gi
                limits:
                  cpu: "2"
                  memory: 4Gi
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities:
                  drop: ["ALL"]
              volumeMounts:
                - name: secrets
                  mountPath: /run/secrets/numerai
                  readOnly: true
                - name: models
                  mountPath: /models
                  readOnly: true
                - name: data
                  mountPath: /data
                - name: tmp
                  mountPath: /tmp
                - name: shm  # workers share the live frame here (else from /tmp, slower)
                  mountPath: /dev/shm
          volumes:
            - name: secrets
              secret:
                secretName: numerai-autopilot  # EDIT: keys public_id and secret_key
                defaultMode: 0400
                optional: false  # the default, written out: podman kube play 4.3 needs it
            - name: models
              persistentVolumeClaim:
                claimName: numerai-autopilot-models  # EDIT
                readOnly: true
            - name: data
              persistentVolumeClaim:
                claimName: numerai-autopilot-data  # EDIT: cache, ledger and lock
            - name: tmp
              emptyDir:
                sizeLimit: 512Mi
            - name: shm
              emptyDir:
                medium: Memory
                sizeLimit: 1Gi
"""
