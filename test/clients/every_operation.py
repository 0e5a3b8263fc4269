"""Calls every operation of both API versions (V2.1, V2.0) of a batchflow service, signed (contract section 9).

Standard library only. Prints one JSON line per operation called:
    {"version": "v2.1", "operation": "GET /flows?action=get", "code": 0}
and exits 0 when every answer had code (V2.1) / status (V2.0) 0; on the first failure it prints that
operation's line with the code and message and exits 1.

    python3 every_operation.py --url http://127.0.0.1:8080 --credentials DATA_DIR/bootstrap-credentials.json
or with the environment: BATCHFLOW_URL, BATCHFLOW_ACCESS_KEY, BATCHFLOW_SECRET_KEY, BATCHFLOW_USER_ID,
BATCHFLOW_ORG_ID (user and org default to those of the credentials file, then u-admin / o-default).

Each version gets its own directory and its own copy of examples/diamond.json, walked in the order a
person would: directories, import, read it every way, edit and save, enable/disable, trigger it every
way, watch the instances, read task instances and logs, cancel, and delete last.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batchflow_client import VERSIONS, BatchflowClient, BatchflowError  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DIAMOND = os.path.join(ROOT, "examples", "diamond.json")
TERMINAL = {"SUCCESS", "FAIL", "CANCEL", "INTERNAL_ERROR"}
HOUR = 3_600_000


class Failed(Exception):
    pass


def now_ms():
    return int(time.time() * 1000)


def emit(version, operation, code, **extra):
    print(json.dumps({"version": version, "operation": operation, "code": code, **extra}, ensure_ascii=False), flush=True)


def check(cond, what):
    if not cond:
        raise Failed(what)


class Walk:
    def __init__(self, client, version):
        self.client = client
        self.version = version
        self.page_base = 1 if version == "v2.1" else 0

    def op(self, method, resource, action, query=None, body=None, public=False, quiet=False):
        """Calls one operation; prints its line (unless quiet, for polling); returns `data`."""
        name = "%s /%s?action=%s" % (method, resource, action)
        try:
            data = self.client.call(self.version, method, resource, action, query=query, body=body, public=public)
        except BatchflowError as e:
            emit(self.version, name, e.code, http=e.http_status, msg=e.msg)
            raise Failed("%s %s" % (self.version, name))
        if not quiet:
            emit(self.version, name, 0)
        return data

    def wait_instance(self, flow_inst_id, deadline_s=90):
        """Polls Get Flow Instance until the instance ends; prints one line for the operation."""
        until = time.time() + deadline_s
        while True:
            inst = self.op("GET", "flowInstances", "get", query={"flowInstId": flow_inst_id}, quiet=True)
            if inst["statusDesc"] in TERMINAL:
                return inst
            if time.time() > until:
                raise Failed("instance %s did not end within %s s (status %s)" % (flow_inst_id, deadline_s, inst["statusDesc"]))
            time.sleep(0.2)

    def run(self, tag):
        v21 = self.version == "v2.1"

        # time: public, neither identity nor signature
        t = self.op("GET", "time", "getCurrentTime", public=True)
        check(isinstance(t, int) and abs(t - now_ms()) < 300_000, "getCurrentTime answered %r" % (t,))
        tz = self.op("GET", "time", "getTimeZone", public=True)
        check(str(tz.get("timezone", "")).startswith("GMT"), "getTimeZone answered %r" % (tz,))

        # directories
        dirs = self.op("GET", "directories", "listWorkFlowDirs")
        root = dirs[0]["key"]
        dir_name = "python client %s café" % tag
        if v21:
            # snake_case keys in a signed body: the signature covers the bytes, not the normalized keys
            made = self.op("POST", "directories", "create", body={"parent_id": root, "dir_name": dir_name})
        else:
            made = self.op("POST", "directories", "create", body={"parentId": root, "dirName": dir_name})
        dir_id = made["dirId"]

        # import the diamond example into that directory, under a name with spaces and non-ASCII
        with open(DIAMOND, encoding="utf-8") as f:
            example = json.load(f)
        flow_name = "diamond py %s ☕ %s" % (tag, os.getpid())
        example["flowJson"]["name"] = flow_name
        imported = self.op("POST", "flows", "import", body={"flowName": flow_name, "desc": "imported by every_operation.py — ünïcode", "dirId": dir_id, "flowJson": example["flowJson"]})
        flow_id = int(imported["flowId"])

        flow = self.op("GET", "flows", "get", query={"flowId": flow_id})
        check(flow["flowName"] == flow_name, "getFlow answered name %r" % flow.get("flowName"))
        graph = json.loads(flow["graph"])
        task_id = {t["taskName"]: int(t["taskId"]) for t in graph["tasks"]}
        check(sorted(task_id) == ["clean_a", "clean_b", "extract", "load"], "getFlow graph tasks %r" % sorted(task_id))

        exported = self.op("GET", "flows", "export", query={"flowId": flow_id})
        check([t["name"] for t in exported["tasks"]] == ["extract", "clean_a", "clean_b", "load"], "exportFlow tasks")

        # a query that needs URL-encoding: a space and non-ASCII (sent %-encoded, signed decoded)
        expression = "py %s ☕" % tag
        mine = self.op("GET", "flows", "getMyFlow", query={"expression" if v21 else "searchValue": expression})
        check([m["flowId"] for m in mine] == [str(flow_id)], "getMyFlow(%r) answered %r" % (expression, mine))

        found = self.op("POST", "flows", "search", body={"expression": flow_name, "pagination": {"pageNo": self.page_base, "pageSize": 10, "sorters": [{"field": "createTime", "order": "DESC"}]}})
        check(found == [{"flowId": flow_id, "flowName": flow_name}], "searchFlow answered %r" % (found,))

        edit = self.op("GET", "flows", "loadForEdit", query={"flowId": flow_id})
        check(edit["flowId"] == flow_id, "loadForEdit answered flowId %r" % edit.get("flowId"))
        save = {
            "id": str(flow_id), "type": 0, "name": flow_name, "freq": "", "cycle": "D", "alertMode": 0, "doAs": "",
            "owners": "admin", "visitors": "", "startTime": "", "active": 0, "desc": "saved by every_operation.py",
            "parameters": [{"key": "region", "value": "eu-north"}, {"key": "out_dir", "value": "/tmp/batchflow-demo-$(id -un)/${cal_dt8}"}],
            "tasks": graph["tasks"], "relations": graph["relations"], "flows": [],
        }
        saved = self.op("POST", "flows", "save", body=save)
        check(int(saved["flowId"]) == flow_id, "saveFlow answered %r" % (saved,))
        if v21:
            # extensions: the Save changed the workflow, so it has a second version
            vs = self.op("GET", "flows", "listVersions", query={"flowId": flow_id})
            check(vs["currentVersion"] == 2 and [v["version"] for v in vs["versions"]] == [2, 1], "listVersions answered %r" % (vs,))
            v2 = self.op("GET", "flows", "getVersion", query={"flowId": flow_id, "version": 2})
            check(v2["flow"]["desc"] == "saved by every_operation.py", "getVersion answered desc %r" % v2["flow"].get("desc"))
            diff = self.op("GET", "flows", "compareVersions", query={"flowId": flow_id, "from": 1, "to": 2})
            check(not diff["same"] and "desc" in [c["field"] for c in diff["flow"]], "compareVersions answered %r" % (diff["flow"],))
        check(self.op("POST", "flows", "enable", body={"flowId": flow_id}) == "", "enableFlow data")
        check(self.op("POST", "flows", "disable", body={"flowId": flow_id}) == "", "disableFlow data")

        # triggers: each at its own trigger time (instance ids carry it)
        t0 = now_ms()
        if v21:
            run1 = self.op("POST", "flows", "trigger", body={"flow_id": flow_id, "trigger_time": t0})["flowInstanceId"]
        else:
            run1 = self.op("POST", "flows", "trigger", body={"flowId": flow_id, "triggerTime": t0})["flowInstanceId"]
        run2 = self.op("POST", "flows", "updateAndTrigger", body={"flowId": flow_id, "triggerTime": t0 - HOUR, "parameters": [{"key": "region", "value": "ap-south ☀"}]})["flowInstanceId"]
        runs = [run1, run2]
        if v21:
            runs.append(self.op("POST", "flows", "triggerFromTask", body={"flowId": flow_id, "taskId": task_id["clean_b"], "triggerTime": t0 - 2 * HOUR})["flowInstanceId"])
        future = self.op("POST", "flows", "trigger", body={"flowId": flow_id, "triggerTime": t0 + 24 * HOUR})["flowInstanceId"]

        ended = [self.wait_instance(r) for r in runs]
        emit(self.version, "GET /flowInstances?action=get", 0)
        check([i["statusDesc"] for i in ended] == ["SUCCESS"] * len(runs), "instances ended %r" % [i["statusDesc"] for i in ended])
        if v21:
            check(all(i["flowVersion"] == 2 for i in ended), "instances ran versions %r" % [i.get("flowVersion") for i in ended])
        task_inst = {t["taskName"]: t["taskInstId"] for t in json.loads(ended[1]["graph"])["tasks"]}
        if v21:
            statuses = {t["taskName"]: t["status"] for t in json.loads(ended[2]["graph"])["tasks"]}
            check(statuses == {"extract": "SKIP", "clean_a": "SKIP", "clean_b": "SUCCESS", "load": "SUCCESS"}, "triggerFromTask ran %r" % statuses)
            ti = self.op("GET", "taskInstances", "get", query={"taskInstId": task_inst["load"]})
            check(ti["instanceId"] == task_inst["load"] and ti["stsDesc"] == "SUCCESS", "getTaskInstance answered %r" % (ti,))
        log = self.op("GET", "taskInstances", "getLog", query={"taskInstId": task_inst["extract"], "maxLength": 100000})["log"]
        check("extracting ap-south ☀" in log, "getLog of extract lacks the override: %r" % log[-300:])
        if v21:
            events = self.client.stream_log(task_inst["extract"], follow=False)
            streamed = "".join(d["text"] for e, d in events if e == "log")
            check(events[-1] == ("end", {"status": "SUCCESS", "terminal": True}) and "extracting ap-south ☀" in streamed, "streamLog answered %r" % events[-2:])
            emit(self.version, "GET /taskInstances?action=streamLog", 0)

        listed = self.op("POST", "flowInstances", "search", body={
            "type": 0, "expression": flow_name, "owner": "", "status": "1,5,8",
            "fromTriggerTime": t0 - 3 * HOUR, "toTriggerTime": t0 + 25 * HOUR,
            "pagination": {"pageNo": self.page_base, "pageSize": 10, "sorters": [{"field": "triggerTime", "order": "ASC"}]},
        })
        ids = [i["instanceId"] for i in listed["flowInsts"]]
        check(listed["count"] == len(runs) + 1 and sorted(ids) == sorted(runs + [future]), "searchFlowInstances answered %r" % ids)

        check(self.op("POST", "flowInstances", "cancel", body={"flowInstId": future}) == "", "cancelFlowInstance data")
        if v21:
            # extensions (contract §12): a rerun of the cancelled future run, a backfill of two noons
            rerun = self.op("POST", "flowInstances", "rerun", body={"flowInstId": future, "mode": "failed"})
            check(rerun["flowInstanceId"] == future and rerun["mode"] == "failed", "rerunFlowInstance answered %r" % (rerun,))
            check(self.op("POST", "flowInstances", "cancel", body={"flowInstId": future}, quiet=True) == "", "cancel after rerun")
            filled = self.op("POST", "flows", "backfill", body={"flowId": flow_id, "fromTime": t0 - 72 * HOUR, "toTime": t0 - 24 * HOUR, "cron": "0 0 12 * * ? *"})
            check(len(filled["flowInstanceIds"]) == 2 and filled["skipped"] == [], "backfillFlow answered %r" % (filled,))
            for i in filled["flowInstanceIds"]:
                self.wait_instance(i)
        # delete last: the flow and its instances go
        check(self.op("GET", "flows", "delete", query={"flowId": flow_id}) == "", "deleteFlow data")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("BATCHFLOW_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--credentials", help="a bootstrap-credentials.json ({accessKey, secretKey, orgId, userId})")
    parser.add_argument("--user-id", default=os.environ.get("BATCHFLOW_USER_ID"))
    parser.add_argument("--org-id", default=os.environ.get("BATCHFLOW_ORG_ID"))
    args = parser.parse_args()

    creds = {}
    if args.credentials:
        with open(args.credentials, encoding="utf-8") as f:
            creds = json.load(f)
    access_key = creds.get("accessKey") or os.environ.get("BATCHFLOW_ACCESS_KEY")
    secret_key = creds.get("secretKey") or os.environ.get("BATCHFLOW_SECRET_KEY")
    if not access_key or not secret_key:
        parser.error("no credentials: give --credentials FILE or BATCHFLOW_ACCESS_KEY and BATCHFLOW_SECRET_KEY")
    user_id = args.user_id or creds.get("userId") or "u-admin"
    org_id = args.org_id or creds.get("orgId") or "o-default"

    client = BatchflowClient(args.url, access_key, secret_key, user_id=user_id, org_id=org_id)
    tag = str(now_ms())
    try:
        client.access_token()
        emit("apim", "POST /apim-token-service/v2.0/token/get", 0)
        for version in VERSIONS:
            Walk(client, version).run("%s %s" % (version.replace(".", ""), tag))
        # token/refresh, then one more signed call with the new token
        client.refresh_token()
        Walk(client, "v2.1").op("GET", "directories", "listWorkFlowDirs", quiet=True)
        emit("apim", "POST /apim-token-service/v2.0/token/refresh", 0)
    except BatchflowError as e:  # the token service
        emit("apim", e.what, e.code, http=e.http_status, msg=e.msg)
        return 1
    except Failed as e:
        print("FAILED: %s" % e, file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
