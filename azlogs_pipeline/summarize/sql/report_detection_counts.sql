-- Report: detections per kind (all hours of the `detections` view: every family).
SELECT detection, count(*) AS detections
FROM detections
GROUP BY detection
