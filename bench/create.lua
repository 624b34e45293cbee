-- wrk: single-record creates of a bench order
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"data":{"kind":"repair","priority":"urgent","status":"reported","customer":1,"fault":"开机无显示,电源指示灯不亮","reported_at":"2026-11-22T09:30:00+08:00","labour_hours":1.5,"satisfaction":90}}'
